{{/* Names ---------------------------------------------------------------------------------------------- */}}

{{- define "tessera.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tessera.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "<fullname>-<suffix>", kept within 63 characters. Call with (list $ "suffix"). */}}
{{- define "tessera.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "tessera.fullname" $root | trunc (int (sub 62 (len (index . 1))))) (index . 1) | trimSuffix "-" -}}
{{- end -}}

{{- define "tessera.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tessera.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Labels ---------------------------------------------------------------------------------------------- */}}

{{/* Labels of every object. Call with (list $ "component"). */}}
{{- define "tessera.labels" -}}
{{- $root := index . 0 -}}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tessera.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: tessera
{{- with $root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels that select one component's pods. Call with (list $ "component"). */}}
{{- define "tessera.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "tessera.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* Images ---------------------------------------------------------------------------------------------- */}}

{{/* "repository@digest" when a digest is given, else "repository:tag". Call with (list $ .Values.x.image). */}}
{{- define "tessera.image" -}}
{{- $root := index . 0 -}}
{{- $image := index . 1 -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default $root.Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Hardening -------------------------------------------------------------------------------------------- */}}

{{/* Every pod: a fixed non-root user, seccomp, and group ownership of its volumes. Not configurable on purpose. */}}
{{- define "tessera.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Every container, init containers included. */}}
{{- define "tessera.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Pod-level fields shared by every Tessera pod. */}}
{{- define "tessera.podCommon" -}}
{{- $root := . -}}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- include "tessera.podSecurityContext" $root | nindent 2 }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* Secrets --------------------------------------------------------------------------------------------- */}}

{{/* The value already stored under .key in Secret .name, or .fallback when there is none (so generated
     secrets survive upgrades; `helm template` has no cluster and always takes the fallback). */}}
{{- define "tessera.storedOr" -}}
{{- $secret := lookup "v1" "Secret" .namespace .name -}}
{{- if and $secret (hasKey ($secret.data | default dict) .key) -}}
{{- index $secret.data .key | b64dec -}}
{{- else -}}
{{- .fallback -}}
{{- end -}}
{{- end -}}

{{- define "tessera.appSecretName" -}}
{{- .Values.auth.existingSecret | default (include "tessera.componentName" (list . "app")) -}}
{{- end -}}

{{- define "tessera.jwtSecretName" -}}
{{- .Values.auth.jwt.existingSecret | default (include "tessera.componentName" (list . "jwt")) -}}
{{- end -}}

{{- define "tessera.signerTokenSecretName" -}}
{{- .Values.signer.token.existingSecret | default (include "tessera.componentName" (list . "signer-token")) -}}
{{- end -}}

{{- define "tessera.signerTlsSecretName" -}}
{{- .Values.signer.tls.existingSecret | default (include "tessera.componentName" (list . "signer-tls")) -}}
{{- end -}}

{{- define "tessera.signerKeystoreSecretName" -}}
{{- .Values.signer.keystore.existingSecret | default (include "tessera.componentName" (list . "signer-keystore")) -}}
{{- end -}}

{{- define "tessera.signerPasswordSecretName" -}}
{{- .Values.signer.keystore.passwordSecret.name | default (include "tessera.componentName" (list . "signer-keystore-password")) -}}
{{- end -}}

{{- define "tessera.postgresqlSecretName" -}}
{{- .Values.postgresql.existingSecret | default (include "tessera.componentName" (list . "postgresql")) -}}
{{- end -}}

{{- define "tessera.redisSecretName" -}}
{{- .Values.redis.existingSecret | default (include "tessera.componentName" (list . "redis")) -}}
{{- end -}}

{{/* DATABASE_URL as an env var, from the bundled database's Secret or yours. */}}
{{- define "tessera.databaseUrlEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
{{- if .Values.postgresql.enabled }}
      name: {{ include "tessera.postgresqlSecretName" . }}
      key: DATABASE_URL
{{- else }}
      name: {{ required "externalDatabase.existingSecret is required when postgresql.enabled is false" .Values.externalDatabase.existingSecret }}
      key: {{ .Values.externalDatabase.key }}
{{- end }}
{{- end -}}

{{- define "tessera.redisUrlEnv" -}}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
{{- if .Values.redis.enabled }}
      name: {{ include "tessera.redisSecretName" . }}
      key: REDIS_URL
{{- else }}
      name: {{ required "externalRedis.existingSecret is required when redis.enabled is false" .Values.externalRedis.existingSecret }}
      key: {{ .Values.externalRedis.key }}
{{- end }}
{{- end -}}

{{- define "tessera.secretKeyEnv" -}}
- name: TESSERA_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "tessera.appSecretName" . }}
      key: TESSERA_SECRET_KEY
- name: KYC_MASTER_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "tessera.appSecretName" . }}
      key: KYC_MASTER_KEY
{{- end -}}

{{/* Endpoints ------------------------------------------------------------------------------------------- */}}

{{- define "tessera.signerHost" -}}
{{- include "tessera.componentName" (list . "signer") -}}
{{- end -}}

{{- define "tessera.apiUrl" -}}
{{- printf "http://%s:%d" (include "tessera.componentName" (list . "api")) (int .Values.api.service.port) -}}
{{- end -}}

{{- define "tessera.evmRpcConfigured" -}}
{{- if or .Values.evm.rpcUrl .Values.evm.existingSecret }}true{{ end -}}
{{- end -}}

{{/* metadata of a chart-generated Secret. Call with (list $ name component). */}}
{{- define "tessera.generatedSecretMeta" -}}
{{- $root := index . 0 -}}
metadata:
  name: {{ index . 1 }}
  labels:
    {{- include "tessera.labels" (list $root (index . 2)) | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-20"
    helm.sh/hook-delete-policy: before-hook-creation
{{- end -}}
