"""The exit statuses every command shares."""

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_NOT_FOUND = 0, 1, 2, 3, 4
