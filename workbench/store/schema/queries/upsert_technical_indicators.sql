-- Upsert from _wb_stage that touches only rows whose values differ; returns (inserted, updated).
WITH up AS (
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
WHERE (technical_indicators.ma_5, technical_indicators.ma_10, technical_indicators.ma_20, technical_indicators.ma_50, technical_indicators.ma_100, technical_indicators.ma_200, technical_indicators.ema_8, technical_indicators.ema_13, technical_indicators.ema_21, technical_indicators.ema_50, technical_indicators.ema_200, technical_indicators.rsi_14, technical_indicators.stochastic_k, technical_indicators.stochastic_d, technical_indicators.macd_line, technical_indicators.macd_signal, technical_indicators.macd_histogram, technical_indicators.cci_20, technical_indicators.atr_14, technical_indicators.bollinger_upper, technical_indicators.bollinger_middle, technical_indicators.bollinger_lower, technical_indicators.keltner_upper, technical_indicators.keltner_middle, technical_indicators.keltner_lower, technical_indicators.volume_ma_20, technical_indicators.obv, technical_indicators.vwap)
    IS DISTINCT FROM (EXCLUDED.ma_5, EXCLUDED.ma_10, EXCLUDED.ma_20, EXCLUDED.ma_50, EXCLUDED.ma_100, EXCLUDED.ma_200, EXCLUDED.ema_8, EXCLUDED.ema_13, EXCLUDED.ema_21, EXCLUDED.ema_50, EXCLUDED.ema_200, EXCLUDED.rsi_14, EXCLUDED.stochastic_k, EXCLUDED.stochastic_d, EXCLUDED.macd_line, EXCLUDED.macd_signal, EXCLUDED.macd_histogram, EXCLUDED.cci_20, EXCLUDED.atr_14, EXCLUDED.bollinger_upper, EXCLUDED.bollinger_middle, EXCLUDED.bollinger_lower, EXCLUDED.keltner_upper, EXCLUDED.keltner_middle, EXCLUDED.keltner_lower, EXCLUDED.volume_ma_20, EXCLUDED.obv, EXCLUDED.vwap)
RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM up
