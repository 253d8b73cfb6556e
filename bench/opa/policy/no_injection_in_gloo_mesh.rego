# no-injection-in-gloo-mesh (deny): no Istio injection in the management namespace.
package gloo_guard.policy.no_injection_in_gloo_mesh

import data.gloo_guard.lib

id := "no-injection-in-gloo-mesh"

deny contains msg if {
	lib.is_namespace
	lib.name == lib.management_namespace
	lib.namespace_injection(lib.labels) == "enabled"
	key := injection_key(lib.labels)
	msg := lib.violation(
		id,
		sprintf("namespace %s is labelled for Istio injection", [lib.management_namespace]),
		sprintf(`metadata.labels["%s"]`, [key]),
		sprintf("remove the %s label from namespace %s", [key, lib.management_namespace]),
	)
}

deny contains msg if {
	lib.is_deployment
	lib.namespace == lib.management_namespace
	pod := lib.pod_injection(lib.pod_template_meta)
	pod.injection == "enabled"
	msg := lib.violation(
		id,
		sprintf("Deployment %s turns on Istio injection for its pods", [lib.name]),
		sprintf("spec.template.metadata.%s", [pod.path]),
		"remove the injection label or annotation from the pod template",
	)
}

injection_key(ls) := "istio-injection" if {
	ls["istio-injection"] == "enabled"
} else := "istio.io/rev"
