"""Yahoo Finance through yfinance: the provider, its v7 quotes, its session and its errors."""
