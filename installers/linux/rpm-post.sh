# goop-rendezvous %post: create the service user and let systemd see the unit.
# Enabling is left to the administrator (or a preset), as Fedora's packaging guidelines ask.
if command -v systemd-sysusers >/dev/null 2>&1; then
    systemd-sysusers goop-rendezvous.conf || :
fi
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -gt 1 ]; then
        systemctl try-restart goop-rendezvous.service >/dev/null 2>&1 || :
    fi
fi
