# addons-namespace-injection (deny): the add-ons namespace is injected by Istio.
package gloo_guard.policy.addons_namespace_injection

import data.gloo_guard.lib

id := "addons-namespace-injection"

deny contains msg if {
	lib.is_namespace
	lib.name == lib.addons_namespace
	lib.namespace_injection(lib.labels) != "enabled"
	msg := lib.violation(
		id,
		sprintf("namespace %s is not labelled for Istio injection", [lib.addons_namespace]),
		"metadata.labels",
		sprintf("label namespace %s with istio-injection=enabled or istio.io/rev=<revision>", [lib.addons_namespace]),
	)
}

deny contains msg if {
	lib.is_deployment
	lib.namespace == lib.addons_namespace
	pod := lib.pod_injection(lib.pod_template_meta)
	pod.injection == "disabled"
	msg := lib.violation(
		id,
		sprintf("Deployment %s opts its pods out of Istio injection", [lib.name]),
		sprintf("spec.template.metadata.%s", [pod.path]),
		`remove sidecar.istio.io/inject: "false" from the pod template`,
	)
}
