# mgmt-server-scrape-annotations (warn): the management server pods carry the scrape annotations.
package gloo_guard.policy.mgmt_server_scrape_annotations

import data.gloo_guard.lib

id := "mgmt-server-scrape-annotations"

annotations := object.get(lib.pod_template_meta, "annotations", {})

missing contains ["prometheus.io/scrape", `"true"`] if annotations["prometheus.io/scrape"] != "true"

missing contains ["prometheus.io/scrape", `"true"`] if not annotations["prometheus.io/scrape"]

missing contains ["prometheus.io/port", `"9091"`] if object.get(annotations, "prometheus.io/port", "") == ""

missing contains ["prometheus.io/path", "/metrics"] if object.get(annotations, "prometheus.io/path", "") == ""

missing contains ["sidecar.istio.io/inject", `"false"`] if annotations["sidecar.istio.io/inject"] != "false"

missing contains ["sidecar.istio.io/inject", `"false"`] if not annotations["sidecar.istio.io/inject"]

warn contains msg if {
	lib.is_deployment
	lib.name == "gloo-mesh-mgmt-server"
	some [key, want] in missing
	msg := lib.violation(
		id,
		sprintf("the management server pod template lacks %s: %s", [key, want]),
		sprintf(`spec.template.metadata.annotations["%s"]`, [key]),
		sprintf("set the pod template annotation %s: %s", [key, want]),
	)
}
