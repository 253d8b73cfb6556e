{{/* Chart name, overridable. */}}
{{- define "gloo-guard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the Service, the webhook configuration and most objects are called this. */}}
{{- define "gloo-guard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "gloo-guard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gloo-guard.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gloo-guard.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "gloo-guard.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: admission-webhook
{{- end }}

{{/* The Secret with tls.crt, tls.key and ca.crt. */}}
{{- define "gloo-guard.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "gloo-guard.fullname" .)) .Values.certificates.secretName }}
{{- end }}

{{/* The cert-manager Certificate for the serving certificate (named in inject-ca-from). */}}
{{- define "gloo-guard.servingCertificateName" -}}
{{- printf "%s-serving" (include "gloo-guard.fullname" .) }}
{{- end }}

{{- define "gloo-guard.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Whether the pods talk to the API server at all (else no token is mounted). */}}
{{- define "gloo-guard.needsApi" -}}
{{- if or (eq .Values.certificates.mode "selfManaged") .Values.audit.enabled .Values.clusterView.enabled }}true{{ end }}
{{- end }}

{{/* Namespaces no webhook ever sees: kube-system, the webhook's own (no deadlock), and the user's list. */}}
{{- define "gloo-guard.namespaceSelector" -}}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values:
        {{- toYaml (concat (list "kube-system" .Release.Namespace) .Values.webhooks.excludeNamespaces | uniq) | nindent 8 }}
{{- end }}

{{/* clientConfig of every webhook; the caBundle depends on the certificate mode. */}}
{{- define "gloo-guard.clientConfig" -}}
clientConfig:
  service:
    name: {{ include "gloo-guard.fullname" . }}
    namespace: {{ .Release.Namespace }}
    path: /validate
    port: 443
  {{- if eq .Values.certificates.mode "provided" }}
  caBundle: {{ .Values.certificates.provided.caBundle | b64enc }}
  {{- end }}
{{- end }}

{{/* Settings shared by every webhook. Call with (dict "root" $ "failurePolicy" $override). */}}
{{- define "gloo-guard.webhookCommon" -}}
{{ include "gloo-guard.clientConfig" .root }}
{{ include "gloo-guard.namespaceSelector" .root }}
failurePolicy: {{ default .root.Values.failurePolicy .failurePolicy }}
timeoutSeconds: {{ .root.Values.timeoutSeconds }}
sideEffects: None
admissionReviewVersions: ["v1"]
matchPolicy: Equivalent
{{- end }}

{{/* Namespaces where the audit reads Helm release Secrets (namespaced RBAC): management, add-ons, and the user's list. */}}
{{- define "gloo-guard.releaseNamespaces" -}}
{{- concat (list .Values.namespaces.management .Values.namespaces.addons) .Values.audit.releaseNamespaces | uniq | join "," }}
{{- end }}

{{/* The audit's --audit-releases: all (cluster-wide Secrets), none, or the namespaces above. */}}
{{- define "gloo-guard.auditReleases" -}}
{{- if not .Values.audit.releaseSecrets }}none
{{- else if .Values.audit.releaseSecretsClusterWide }}all
{{- else }}{{ include "gloo-guard.releaseNamespaces" . }}
{{- end }}
{{- end }}

{{/* The Lease that elects the one replica that audits. */}}
{{- define "gloo-guard.auditLeaseName" -}}
{{- printf "%s-audit" (include "gloo-guard.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
