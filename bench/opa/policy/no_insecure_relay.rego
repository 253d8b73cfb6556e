# no-insecure-relay (deny): relay traffic must use mTLS. gloo-guard runs it on Deployments too, so
# the comparison includes it.
package gloo_guard.policy.no_insecure_relay

import data.gloo_guard.lib

id := "no-insecure-relay"

relay_components := {"gloo-mesh-mgmt-server", "gloo-mesh-agent"}

deny contains msg if {
	lib.is_deployment
	lib.name in relay_components
	some i, c in lib.containers
	some j, arg in object.get(c, "args", [])
	regex.match(`^--(relay-)?insecure(=true)?$`, arg)
	msg := lib.violation(
		id,
		sprintf("%s runs with %s", [lib.name, arg]),
		sprintf("spec.template.spec.containers[%d].args[%d]", [i, j]),
		"remove the insecure argument (in values: set insecure: false)",
	)
}
