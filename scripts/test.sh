#!/usr/bin/env bash
# The test command (README, .ci/run): sets up (deps, bundles, Docker engine, sandbox and browser images),
# typechecks, then runs the unit tests and the integration tests against the real Docker engine,
# the webview bundles' tests in real Chromium (test/browser/; the e2e set-up provides Chromium),
# and the end-to-end tests in a real VS Code (scripts/test-e2e.sh; set-up already done above).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The browser image (web tasks' tests; about 4 min once) builds while typecheck and unit tests run.
bash scripts/build-browser-image.sh &
browser_image=$!
npm run --silent typecheck
node --import tsx --test --test-reporter=spec test/unit/*.test.ts
wait "$browser_image"
bash scripts/ensure-sshd.sh
bash scripts/ensure-prometheus.sh
bash scripts/ensure-redis.sh
node --import tsx --test --test-concurrency=1 --test-reporter=spec test/integration/*.test.ts
bash scripts/setup-vscode-e2e.sh
node --import tsx --test --test-concurrency=1 --test-reporter=spec test/browser/*.test.ts
TRAJLAB_E2E_SKIP_SETUP=1 bash scripts/test-e2e.sh
