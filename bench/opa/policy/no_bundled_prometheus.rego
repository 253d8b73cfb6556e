# no-bundled-prometheus (deny): bring your own Prometheus.
package gloo_guard.policy.no_bundled_prometheus

import data.gloo_guard.lib

id := "no-bundled-prometheus"

deny contains msg if {
	lib.is_deployment
	lib.name == "prometheus-server"
	lib.namespace == lib.management_namespace
	msg := lib.violation(
		id,
		"the bundled prometheus-server runs in the management namespace",
		"metadata.name",
		"set prometheus.enabled: false and prometheusUrl (common.prometheusUrl) to your Prometheus with its port",
	)
}
