"""The web layer: translates HTTP and WebSocket messages to the maths and back."""
