"""The gradviz server: Flask app factory, HTTP routes, Socket.IO namespace, sessions."""
from .app import create_app, make_config, socketio

__all__ = ["create_app", "make_config", "socketio"]
