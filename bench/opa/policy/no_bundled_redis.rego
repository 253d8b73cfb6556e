# no-bundled-redis (deny): bring your own Redis.
package gloo_guard.policy.no_bundled_redis

import data.gloo_guard.lib

id := "no-bundled-redis"

deny contains msg if {
	lib.is_deployment
	lib.name == "gloo-mesh-redis"
	lib.namespace == lib.management_namespace
	msg := lib.violation(
		id,
		"the bundled Redis Deployment gloo-mesh-redis runs in the management namespace",
		"metadata.name",
		"disable the bundled Redis (glooMeshRedis.enabled: false, or redis.deployment.enabled: false) and point to your own",
	)
}
