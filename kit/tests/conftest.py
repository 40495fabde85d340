"""The kit's tests run without the operator: only voicecap_kit and its own dependencies."""
