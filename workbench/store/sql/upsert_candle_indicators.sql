-- The candles' own indicator columns; rows must already exist (they are computed from them).
UPDATE candles AS c SET
    vwap = s.vwap, rsi = s.rsi, macd = s.macd,
    bollinger_upper = s.bollinger_upper, bollinger_middle = s.bollinger_middle,
    bollinger_lower = s.bollinger_lower
FROM _wb_stage AS s
WHERE c.symbol = s.symbol AND c.timeframe = s.timeframe AND c.timestamp = s.timestamp
RETURNING false AS inserted
