{{- /*
ValidatingAdmissionPolicies (`validatingAdmissionPolicies.enabled`): the pieces shared by the
generated validatingadmissionpolicies.yaml (the built-in object checks, from src/rules/builtin.ts)
and the user rules of `rules` that judge objects only. The API server enforces them in-process, so
they hold with no webhook pod. src/rules/vap.ts renders the same objects for `gloo-guard vap`;
test/chart/vap.test.ts keeps the two in step.
*/}}

{{/* Whether the chart renders them: asked for, and the API server serves the API. */}}
{{- define "gloo-guard.vap.enabled" -}}
{{- if and .Values.validatingAdmissionPolicies.enabled (.Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy") }}true{{ end }}
{{- end }}

{{/*
What happens when an expression cannot be evaluated (a runtime error, the cost limit): as `onError`
says for the webhook; audit mode refuses nothing, so it never fails closed.
*/}}
{{- define "gloo-guard.vap.failurePolicy" -}}
{{- if and (eq .Values.mode "enforce") (eq .Values.onError "deny") }}Fail{{ else }}Ignore{{ end }}
{{- end }}

{{/* The binding's actions: Deny for a deny in enforce mode, else a warning and an audit annotation. */}}
{{- define "gloo-guard.vap.actions" -}}
{{- if and (eq .root.Values.mode "enforce") (eq .action "deny") }}[Deny]{{ else }}[Warn, Audit]{{ end }}
{{- end }}

{{/* The resource rule of a subject kind (namespace, deployment, service). */}}
{{- define "gloo-guard.vap.resourceRule" -}}
{{- $r := get (dict "namespace" (list "" "namespaces") "deployment" (list "apps" "deployments") "service" (list "" "services")) . }}
- apiGroups: [{{ index $r 0 | quote }}]
  apiVersions: ["v1"]
  operations: ["CREATE", "UPDATE"]
  resources: [{{ index $r 1 | quote }}]
{{- end }}

{{/*
The live exceptions of one policy, as matchConditions (an expired one no longer applies; its end is
read when the chart renders, so re-render to drop it). A Namespace's namespace is its own name.
Call with (dict "root" $ "id" <policy or rule id> "kind" <kind>).
*/}}
{{- define "gloo-guard.vap.exceptions" -}}
{{- $today := dateInZone "2006-01-02" now "UTC" }}
{{- $ns := ternary "request.name" "request.namespace" (eq .kind "namespace") }}
{{- range $i, $ex := .root.Values.exceptions }}
{{- if and (eq $ex.policy $.id) (or (not $ex.expires) (ge (toString $ex.expires) $today)) }}
{{- $terms := list }}
{{- if $ex.namespace }}{{ $terms = append $terms (printf "%s == %s" $ns (toJson $ex.namespace)) }}{{ end }}
{{- if $ex.name }}{{ $terms = append $terms (printf "request.name == %s" (toJson $ex.name)) }}{{ end }}
- name: exception-{{ $i }}
  expression: {{ ternary (printf "!(%s)" (join " && " $terms)) "false" (gt (len $terms) 0) | toJson }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The parts of a policy's spec besides variables and validations, and what follows them: the binding.
Call with (dict "root" $ "name" <object name> "id" <id> "kind" <kind> "conditions" <extra list>).
*/}}
{{- define "gloo-guard.vap.head" -}}
failurePolicy: {{ include "gloo-guard.vap.failurePolicy" .root }}
matchConstraints:
  {{- include "gloo-guard.namespaceSelector" .root | nindent 2 }}
  resourceRules:
    {{- include "gloo-guard.vap.resourceRule" .kind | trim | nindent 4 }}
matchConditions:
  # Never stand in the way of a deletion (finalizer removal is an UPDATE).
  - name: not-being-deleted
    expression: "!has(object.metadata.deletionTimestamp)"
  {{- range .conditions }}
  - name: {{ .name }}
    expression: {{ .expression | toJson }}
  {{- end }}
  {{- with include "gloo-guard.vap.exceptions" . | trim }}
  {{- . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* The binding of one policy. Call with (dict "root" $ "name" <object name> "action" <action>). */}}
{{- define "gloo-guard.vap.binding" -}}
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: {{ .name }}
  labels:
    {{- include "gloo-guard.labels" .root | nindent 4 }}
spec:
  policyName: {{ .name }}
  validationActions: {{ include "gloo-guard.vap.actions" . }}
{{- end }}

{{/*
Whether a user rule can run in the API server: it judges objects only, matches no chart, and reads
none of the variables only gloo-guard has (`gloo-guard vap` parses the CEL to decide; a word match
here can only keep more rules with the webhook, never send one that cannot run).
*/}}
{{- define "gloo-guard.vap.ruleRenders" -}}
{{- $cel := cat .expression (.messageExpression | default "") }}
{{- if not (or (has "release" .appliesTo) (dig "match" "families" "" .) (dig "match" "versions" "" .) (regexMatch `\b(values|userValues|chart|release)\b` $cel)) }}true{{ end }}
{{- end }}

{{/* The user rules of `rules` that judge objects only, each as a policy and binding per kind. */}}
{{- define "gloo-guard.vap.rules" -}}
{{- $root := . }}
{{- range $rule := .Values.rules }}
{{- $action := dig $rule.id "action" ($rule.action | default "deny") $root.Values.policies }}
{{- if and (include "gloo-guard.vap.ruleRenders" $rule) (ne $action "off") }}
{{- $message := $rule.messageExpression | default (toJson ($rule.message | default (printf "failed expression: %s" (trim $rule.expression)))) }}
{{- $path := $rule.path | default "object" }}
{{- range $kind := $rule.appliesTo }}
{{- $ns := ternary "request.name" "request.namespace" (eq $kind "namespace") }}
{{- $conditions := list }}
{{- with dig "match" "namespaces" list $rule }}
{{- $conditions = append $conditions (dict "name" "match-namespaces" "expression" (printf "%s in %s" $ns (toJson .))) }}
{{- end }}
{{- with dig "match" "names" list $rule }}
{{- $conditions = append $conditions (dict "name" "match-names" "expression" (printf "request.name in %s" (toJson .))) }}
{{- end }}
{{- $name := printf "%s-%s-%s" (include "gloo-guard.fullname" $root) $rule.id $kind }}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: {{ $name }}
  labels:
    {{- include "gloo-guard.labels" $root | nindent 4 }}
spec:
  {{- include "gloo-guard.vap.head" (dict "root" $root "id" $rule.id "kind" $kind "conditions" $conditions) | nindent 2 }}
  validations:
    - expression: {{ $rule.expression | toJson }}
      messageExpression: {{ printf "'[%s] ' + (%s) + %s" $rule.id $message (toJson (printf " (%s) -> %s" $path $rule.remediation)) | toJson }}
      message: {{ printf "[%s] %s (%s) -> %s" $rule.id ($rule.message | default $rule.title) $path $rule.remediation | toJson }}
      reason: Forbidden
---
{{ include "gloo-guard.vap.binding" (dict "root" $root "name" $name "action" $action) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Refuses a `policies` key or an exception that names neither a built-in policy nor one of `rules`
(the schema cannot see `rules`, so it checks only the form of an id).
*/}}
{{- define "gloo-guard.checkPolicyIds" -}}
{{- $known := splitList " " (include "gloo-guard.builtinPolicyIds" .) }}
{{- range .Values.rules }}{{ $known = append $known .id }}{{ end }}
{{- range $id, $_ := .Values.policies }}
{{- if not (has $id $known) }}{{ fail (printf "policies.%s: no built-in policy or rule has this id (gloo-guard policies lists them)" $id) }}{{ end }}
{{- end }}
{{- range $i, $ex := .Values.exceptions }}
{{- if not (has $ex.policy $known) }}{{ fail (printf "exceptions[%d].policy: %s is neither a built-in policy nor a rule id (gloo-guard policies lists them)" $i $ex.policy) }}{{ end }}
{{- end }}
{{- end }}
