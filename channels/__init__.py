"""Input channels of the Rasa server (REST for now; the widget's socket.io is Rasa's own)."""
