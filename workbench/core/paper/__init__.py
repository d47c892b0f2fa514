"""The paper broker's pure part: fills and Bithumb's order rules (the application's runner is
:mod:`workbench.app.paper`)."""
