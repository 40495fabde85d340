//go:build tools

// Package tools pins the registry (distribution v3): tests/e2e/test_registry.py pushes the chart
// and the image to it and installs from it.
package tools

import _ "github.com/distribution/distribution/v3/cmd/registry"
