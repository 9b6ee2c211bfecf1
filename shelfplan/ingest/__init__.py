"""Reading loans and other library exports: sniffing, columns, timestamps, sessions, call numbers."""
