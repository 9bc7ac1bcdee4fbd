"""forecast: train an LSTM on CSV time series and write forecasts from the command line."""

__version__ = "0.1.0"
