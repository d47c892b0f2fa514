INSERT INTO technical_indicators (
    symbol, timeframe, timestamp, ma_5, ma_10, ma_20, ma_50, ma_100, ma_200,
    ema_8, ema_13, ema_21, ema_50, ema_200, rsi_14, stochastic_k, stochastic_d,
    macd_line, macd_signal, macd_histogram, cci_20, atr_14,
    bollinger_upper, bollinger_middle, bollinger_lower, keltner_upper, keltner_middle, keltner_lower,
    volume_ma_20, obv, vwap)
SELECT symbol, timeframe, timestamp, ma_5, ma_10, ma_20, ma_50, ma_100, ma_200,
    ema_8, ema_13, ema_21, ema_50, ema_200, rsi_14, stochastic_k, stochastic_d,
    macd_line, macd_signal, macd_histogram, cci_20, atr_14,
    bollinger_upper, bollinger_middle, bollinger_lower, keltner_upper, keltner_middle, keltner_lower,
    volume_ma_20, obv, vwap
FROM _wb_stage
ON CONFLICT (symbol, timeframe, timestamp) DO UPDATE SET
    ma_5 = EXCLUDED.ma_5, ma_10 = EXCLUDED.ma_10, ma_20 = EXCLUDED.ma_20, ma_50 = EXCLUDED.ma_50,
    ma_100 = EXCLUDED.ma_100, ma_200 = EXCLUDED.ma_200, ema_8 = EXCLUDED.ema_8, ema_13 = EXCLUDED.ema_13,
    ema_21 = EXCLUDED.ema_21, ema_50 = EXCLUDED.ema_50, ema_200 = EXCLUDED.ema_200,
    rsi_14 = EXCLUDED.rsi_14, stochastic_k = EXCLUDED.stochastic_k, stochastic_d = EXCLUDED.stochastic_d,
    macd_line = EXCLUDED.macd_line, macd_signal = EXCLUDED.macd_signal,
    macd_histogram = EXCLUDED.macd_histogram, cci_20 = EXCLUDED.cci_20, atr_14 = EXCLUDED.atr_14,
    bollinger_upper = EXCLUDED.bollinger_upper, bollinger_middle = EXCLUDED.bollinger_middle,
    bollinger_lower = EXCLUDED.bollinger_lower, keltner_upper = EXCLUDED.keltner_upper,
    keltner_middle = EXCLUDED.keltner_middle, keltner_lower = EXCLUDED.keltner_lower,
    volume_ma_20 = EXCLUDED.volume_ma_20, obv = EXCLUDED.obv, vwap = EXCLUDED.vwap
RETURNING (xmax = 0) AS inserted
