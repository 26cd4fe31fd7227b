#!/bin/sh
# Alertmanager's configuration from the environment (.env beside docker-compose.yml), then
# Alertmanager itself: `render-config.sh OUT [alertmanager flags...]` writes OUT and execs
# alertmanager with --config.file=OUT; `render-config.sh OUT --render-only` only writes it.
# Alertmanager reads no variables in its own file, hence this script. POSIX sh: the
# prom/alertmanager image has busybox, not bash. Receivers (docs/observability.md "Alert delivery"):
#   ALERT_WEBHOOK_URL            Alertmanager's webhook JSON, POSTed: Home Assistant, ntfy, Gotify adapters, your own
#   ALERT_DISCORD_WEBHOOK_URL    a Discord channel webhook
#   ALERT_SLACK_WEBHOOK_URL      a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat)
#   ALERT_EMAIL_TO               e-mail through your SMTP server, with ALERT_SMTP_SMARTHOST (host:port),
#                                ALERT_SMTP_FROM, ALERT_SMTP_USERNAME, ALERT_SMTP_PASSWORD, ALERT_SMTP_REQUIRE_TLS
# With none set, alerts only show in Alertmanager's own page (127.0.0.1:9093).
set -eu

out=${1:?usage: render-config.sh OUT [--render-only | alertmanager flags...]}
shift

# A YAML double-quoted string: backslashes and quotes escaped.
# One line, as printf writes it (the shell's echo may read backslashes).
put() { printf '%s\n' "$*"; }
q() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

{
  put "# Rendered by deploy/alertmanager/render-config.sh from the environment: edit .env, not this file."
  put "global:"
  put "  resolve_timeout: 5m"
  if [ -n "${ALERT_SMTP_SMARTHOST:-}" ]; then
    put "  smtp_smarthost: $(q "$ALERT_SMTP_SMARTHOST")"
    put "  smtp_from: $(q "${ALERT_SMTP_FROM:-runnerhub@localhost}")"
    [ -z "${ALERT_SMTP_USERNAME:-}" ] || put "  smtp_auth_username: $(q "$ALERT_SMTP_USERNAME")"
    [ -z "${ALERT_SMTP_PASSWORD:-}" ] || put "  smtp_auth_password: $(q "$ALERT_SMTP_PASSWORD")"
    put "  smtp_require_tls: ${ALERT_SMTP_REQUIRE_TLS:-true}"
  fi
  put "route:"
  put "  receiver: runnerhub"
  put "  group_by: [alertname, pool, host, stream, job]"
  put "  group_wait: ${ALERT_GROUP_WAIT:-30s}"
  put "  group_interval: ${ALERT_GROUP_INTERVAL:-5m}"
  put "  repeat_interval: ${ALERT_REPEAT_INTERVAL:-4h}"
  put "receivers:"
  put "  - name: runnerhub"
  if [ -n "${ALERT_WEBHOOK_URL:-}" ]; then
    put "    webhook_configs:"
    put "      - url: $(q "$ALERT_WEBHOOK_URL")"
    put "        send_resolved: true"
  fi
  if [ -n "${ALERT_DISCORD_WEBHOOK_URL:-}" ]; then
    put "    discord_configs:"
    put "      - webhook_url: $(q "$ALERT_DISCORD_WEBHOOK_URL")"
    put "        send_resolved: true"
  fi
  if [ -n "${ALERT_SLACK_WEBHOOK_URL:-}" ]; then
    put "    slack_configs:"
    put "      - api_url: $(q "$ALERT_SLACK_WEBHOOK_URL")"
    put "        send_resolved: true"
    put "        title: '{{ .Status | toUpper }}: {{ .CommonAnnotations.summary }}'"
    put "        text: '{{ range .Alerts }}{{ .Annotations.description }} (runbook: {{ .Annotations.runbook }}) {{ end }}'"
  fi
  if [ -n "${ALERT_EMAIL_TO:-}" ]; then
    [ -n "${ALERT_SMTP_SMARTHOST:-}" ] || { printf "%s\n" "render-config.sh: ALERT_EMAIL_TO is set but ALERT_SMTP_SMARTHOST (host:port of your SMTP server) is not" >&2; exit 2; }
    put "    email_configs:"
    put "      - to: $(q "$ALERT_EMAIL_TO")"
    put "        send_resolved: true"
  fi
} >"$out"

if [ "${1:-}" = --render-only ]; then exit 0; fi
exec "${ALERTMANAGER_BIN:-alertmanager}" --config.file="$out" "$@"
