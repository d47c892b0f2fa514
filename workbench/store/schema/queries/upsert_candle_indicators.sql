-- The candles' own indicator columns; rows must already exist (they are computed from them).
-- Only rows whose values differ are touched; returns (inserted, updated).
WITH up AS (
UPDATE candles AS c SET
    vwap = s.vwap, rsi = s.rsi, macd = s.macd,
    bollinger_upper = s.bollinger_upper, bollinger_middle = s.bollinger_middle,
    bollinger_lower = s.bollinger_lower
FROM _wb_stage AS s
WHERE c.symbol = s.symbol AND c.timeframe = s.timeframe AND c.timestamp = s.timestamp
  AND (c.vwap, c.rsi, c.macd, c.bollinger_upper, c.bollinger_middle, c.bollinger_lower)
      IS DISTINCT FROM (s.vwap, s.rsi, s.macd, s.bollinger_upper, s.bollinger_middle, s.bollinger_lower)
RETURNING 1
)
SELECT 0::bigint AS inserted, count(*) AS updated FROM up
