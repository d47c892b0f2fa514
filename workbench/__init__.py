"""workbench: research and backtesting for Bithumb KRW markets."""
__version__ = "0.1.0"
