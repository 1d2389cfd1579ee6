{{/* The six subgraph services; the gateway is the seventh component. */}}
{{- define "pipewright.services" -}}
projects environments pipelines executions builds triggers
{{- end -}}

{{- define "pipewright.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-qualified name; component names are appended, so it stays under 50 characters. */}}
{{- define "pipewright.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "pipewright.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of one component's Deployment and Service. Context: dict "root" $ "component" name. */}}
{{- define "pipewright.componentName" -}}
{{- printf "%s-%s" (include "pipewright.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pipewright.labels" -}}
helm.sh/chart: {{ include "pipewright.chart" . }}
app.kubernetes.io/name: {{ include "pipewright.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: pipewright
{{- end -}}

{{/* Context: dict "root" $ "component" name. */}}
{{- define "pipewright.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pipewright.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "pipewright.configMapName" -}}
{{- printf "%s-config" (include "pipewright.fullname" .) -}}
{{- end -}}

{{- define "pipewright.secretName" -}}
{{- if .Values.secrets.create -}}
{{- printf "%s-secrets" (include "pipewright.fullname" .) -}}
{{- else -}}
{{- required "secrets.existingSecret is required when secrets.create is false" .Values.secrets.existingSecret -}}
{{- end -}}
{{- end -}}

{{/* Secret key of one service's DATABASE_URL, e.g. DATABASE_URL_PIPELINES. */}}
{{- define "pipewright.databaseUrlKey" -}}
{{- printf "DATABASE_URL_%s" (upper .) -}}
{{- end -}}

{{/* One service's DATABASE_URL: database.urls.<service>, else the host/user template. Context: dict "root" $ "service" name. */}}
{{- define "pipewright.databaseUrl" -}}
{{- $db := .root.Values.database -}}
{{- $url := index ($db.urls | default dict) .service | default "" -}}
{{- if $url -}}
{{- $url -}}
{{- else -}}
{{- $auth := urlquery (required "database.user is required (or database.urls.<service>)" $db.user) -}}
{{- if $db.password -}}
{{- $auth = printf "%s:%s" $auth (urlquery $db.password) -}}
{{- end -}}
{{- printf "postgres://%s@%s:%v/%s%s" $auth (required "database.host is required (or database.urls.<service>)" $db.host) $db.port $db.databasePrefix .service -}}
{{- if $db.params -}}?{{ $db.params }}{{- end -}}
{{- end -}}
{{- end -}}

{{/* A secret value: the value given, else the one already in the release's Secret, else a new random one (40 alphanumerics, or "generated" when given). Context: dict "root" $ "value" v "key" KEY ["generated" v]. */}}
{{- define "pipewright.secretValue" -}}
{{- if .value -}}
{{- .value -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace (include "pipewright.secretName" .root) -}}
{{- if and $existing $existing.data (hasKey $existing.data .key) -}}
{{- index $existing.data .key | b64dec -}}
{{- else if .generated -}}
{{- .generated -}}
{{- else -}}
{{- randAlphaNum 40 -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The image of one component. Context: dict "root" $ "component" values-of-component. */}}
{{- define "pipewright.image" -}}
{{- $img := .component.image | default dict -}}
{{- $repo := $img.repository | default .root.Values.image.repository -}}
{{- $tag := $img.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s:%s" $repo (toString $tag) -}}
{{- end -}}

{{- define "pipewright.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "pipewright.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Whether a component's replicas are set by an HorizontalPodAutoscaler. Context: the component's values. */}}
{{- define "pipewright.autoscaled" -}}
{{- if and .autoscaling .autoscaling.enabled }}true{{ end -}}
{{- end -}}
