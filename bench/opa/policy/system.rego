# The admission endpoint: OPA's default decision (data.system.main) answers POST / with the
# AdmissionReview as input, as in OPA's Kubernetes admission control tutorial. The webhook's
# clientConfig points at https://<opa-service>/ and needs nothing else.
package system

import data.gloo_guard.lib

main := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"response": response,
}

deny contains msg if {
	some p
	some msg in data.gloo_guard.policy[p].deny
}

warn contains msg if {
	some p
	some msg in data.gloo_guard.policy[p].warn
}

uid := object.get(lib.request, "uid", "")

response := with_warnings({
	"uid": uid,
	"allowed": false,
	"status": {"code": 403, "reason": "Forbidden", "message": denial_message},
}) if {
	count(deny) > 0
} else := with_warnings({"uid": uid, "allowed": true})

with_warnings(r) := object.union(r, {"warnings": sort(warn)}) if {
	count(warn) > 0
} else := r

denial_message := concat("\n", array.concat(
	[sprintf("gloo-guard (Rego): %d violation(s) in %s %s:", [count(deny), lib.obj.kind, lib.name])],
	sort(deny),
))
