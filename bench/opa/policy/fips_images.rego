# fips-images (off by default, as in gloo-guard): management server and agent images are FIPS builds.
package gloo_guard.policy.fips_images

import data.gloo_guard.lib

id := "fips-images"

suffix := "-fips"

components := {"gloo-mesh-mgmt-server", "gloo-mesh-agent"}

deny contains msg if {
	lib.fips_images_enabled
	lib.is_deployment
	lib.name in components
	some i, c in lib.containers
	image := object.get(c, "image", "")
	contains(image, lib.name)
	not endswith(image_tag(image), suffix)
	msg := lib.violation(
		id,
		sprintf("image %s is not a FIPS build", [image]),
		sprintf("spec.template.spec.containers[%d].image", [i]),
		sprintf("use the %s tag of %s", [suffix, lib.name]),
	)
}

# The tag of an image reference (repo:tag@digest gives tag), or "" when it has none.
image_tag(image) := tag if {
	no_digest := split(image, "@")[0]
	parts := split(no_digest, "/")
	last := parts[count(parts) - 1]
	contains(last, ":")
	tag := split(last, ":")[1]
} else := ""
