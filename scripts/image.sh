#!/usr/bin/env bash
# npm run image: builds the webhook image tagged with the package version, as the chart expects it
# (image.repository:image.tag, the tag defaulting to the chart's appVersion). Without a Docker engine
# it says so and checks the Dockerfile statically instead (test/unit/dockerfile.test.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
version="$(node -p "require('./package.json').version")"
image="${IMAGE_REPOSITORY:-ghcr.io/gloo-guard/gloo-guard}:${version}"
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  docker build -t "${image}" .
  echo "built ${image}; load it with: kind load docker-image ${image}  (or: k3d image import ${image})"
else
  echo "npm run image: no Docker engine here, so ${image} was not built; checking the Dockerfile statically instead (npm run bench:image measures our layers without Docker)" >&2
  npx vitest run test/unit/dockerfile.test.ts -t "^Dockerfile"
fi
