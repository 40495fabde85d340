"""The Prometheus rules the operator generates: per VoiceCapacity and on itself."""
