SELECT timestamp AS ts, ma_5, ma_10, ma_20, ma_50, ma_100, ma_200, ema_8, ema_13, ema_21, ema_50, ema_200,
       rsi_14, stochastic_k, stochastic_d, macd_line, macd_signal, macd_histogram, cci_20, atr_14,
       bollinger_upper, bollinger_middle, bollinger_lower, keltner_upper, keltner_middle, keltner_lower,
       volume_ma_20, obv, vwap
FROM technical_indicators
WHERE symbol = :symbol AND timeframe = :timeframe AND timestamp >= :start AND timestamp < :end
ORDER BY timestamp
