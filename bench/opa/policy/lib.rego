# Shared helpers of the Rego versions of gloo-guard's Namespace and Deployment policies.
# Mirrors src/policies/util.ts: Istio injection as Istio decides it, and the object's metadata.
package gloo_guard.lib

# The namespaces gloo-guard's default config names.
management_namespace := "gloo-mesh"

addons_namespace := "gloo-mesh-addons"

# Policies whose default action is off in gloo-guard (fips-images) stay off here too.
fips_images_enabled := false

request := input.request

obj := input.request.object

# DELETE and CONNECT are always allowed, and subresources are not judged (src/server/review.ts).
judged if {
	request.operation in {"CREATE", "UPDATE"}
	object.get(request, "subResource", "") == ""
}

is_namespace if {
	judged
	obj.kind == "Namespace"
	obj.apiVersion == "v1"
}

is_deployment if {
	judged
	obj.kind == "Deployment"
	obj.apiVersion == "apps/v1"
}

name := object.get(obj, ["metadata", "name"], "")

namespace := object.get(obj, ["metadata", "namespace"], "")

labels := object.get(obj, ["metadata", "labels"], {})

pod_template_meta := object.get(obj, ["spec", "template", "metadata"], {})

containers := object.get(obj, ["spec", "template", "spec", "containers"], [])

# A namespace's injection: istio-injection wins over istio.io/rev.
namespace_injection(ls) := "disabled" if {
	ls["istio-injection"] == "disabled"
} else := "enabled" if {
	ls["istio-injection"] == "enabled"
} else := "enabled" if {
	object.get(ls, "istio.io/rev", "") != ""
} else := "unset"

# A pod template's own injection: the sidecar.istio.io/inject label wins over the annotation.
pod_injection(meta) := _pod_injection(object.get(meta, "labels", {}), object.get(meta, "annotations", {}))

_pod_injection(ls, ann) := {"injection": "enabled", "path": `labels["sidecar.istio.io/inject"]`} if {
	ls["sidecar.istio.io/inject"] in {"true", true}
} else := {"injection": "disabled", "path": `labels["sidecar.istio.io/inject"]`} if {
	ls["sidecar.istio.io/inject"] in {"false", false}
} else := {"injection": "enabled", "path": `annotations["sidecar.istio.io/inject"]`} if {
	ann["sidecar.istio.io/inject"] in {"true", true}
} else := {"injection": "disabled", "path": `annotations["sidecar.istio.io/inject"]`} if {
	ann["sidecar.istio.io/inject"] in {"false", false}
} else := {"injection": "enabled", "path": `labels["istio.io/rev"]`} if {
	rev := ls["istio.io/rev"]
	is_string(rev)
	rev != ""
} else := {"injection": "unset", "path": "labels"}

# Every message reads as gloo-guard's: [policy-id] what is wrong (path) -> how to fix it.
violation(id, message, path, fix) := sprintf("[%s] %s (%s) -> %s", [id, message, path, fix])
