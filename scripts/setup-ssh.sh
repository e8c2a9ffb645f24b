#!/usr/bin/env bash
# Prepares this machine for the SSH test suites (idempotent): OpenSSH's server binary, and a
# dedicated non-root user that the suites log into with a generated key. The suites start their own
# sshd on 127.0.0.1 (test/helpers/sshd.ts); the system's sshd service is not used.
set -euo pipefail
TEST_USER="${JETBENCH_SSH_TEST_USER:-jetbench-test}"

if [[ "$(id -u)" != 0 ]]; then
  echo "setup-ssh: not root: the SSH suites need root to create '$TEST_USER' and run sshd; skipping this setup"
  exit 0
fi
if [[ ! -x /usr/sbin/sshd ]]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d 101: the package must not start the system's sshd on port 22 as a side effect.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi
# sshd's privilege separation directory (normally made by the service unit).
mkdir -p /run/sshd && chmod 0755 /run/sshd
if ! id "$TEST_USER" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$TEST_USER"
fi
# With UsePAM no, sshd refuses a locked account ('!' in the password field): an unusable but
# unlocked password lets key authentication through and nothing else.
usermod -p '*' "$TEST_USER"
echo "setup-ssh: openssh-server $(dpkg-query -W -f '${Version}' openssh-server 2>/dev/null || echo present), test user $TEST_USER (home $(getent passwd "$TEST_USER" | cut -d: -f6))"
