"""Text for a terminal: every command's rendering lives here, none in the commands.

``answers`` renders trace, recall and report answers; ``operations`` what the operating commands
print (stack status, publishing, history, rejects); ``table`` and ``progress`` are the pieces.
"""
