"""Peak windows, holiday calendars, forecasts from history and their scorecards."""
