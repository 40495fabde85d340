//go:build tools

// Package tools pins livekit-server for the LiveKit end-to-end test (tests/e2e/test_livekit.py):
// v1.13.5, because v1.13.6 and later replace pion with LiveKit forks the module proxy refuses.
package tools

import _ "github.com/livekit/livekit-server/cmd/server"
