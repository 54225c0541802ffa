"""The HTTP API: create_app(settings), the request gate, one router per resource."""
