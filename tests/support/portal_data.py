"""Constants shared by the portal tests (tests/portal)."""

#: the content of a file next to the reports directory that no request may reach
SECRET = "TOP-SECRET-OUTSIDE-THE-REPORTS"
#: the password of the test users
PASSWORD = "correct horse battery"
