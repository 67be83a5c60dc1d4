"""`infracast top`: a live fleet view. fleet.py asks the server, view.py draws, live.py runs the loop."""
