-- Upsert from _wb_stage that touches only rows whose values differ; returns (inserted, updated).
WITH up AS (
INSERT INTO tickers (symbol, timestamp, opening_price, closing_price, high_price, low_price, volume, value,
                     change_24h, change_rate_24h, bid_price, ask_price, spread)
SELECT symbol, timestamp, opening_price, closing_price, high_price, low_price, volume, value,
       change_24h, change_rate_24h, bid_price, ask_price, spread
FROM _wb_stage
ON CONFLICT (symbol, timestamp) DO UPDATE SET
    opening_price = EXCLUDED.opening_price, closing_price = EXCLUDED.closing_price,
    high_price = EXCLUDED.high_price, low_price = EXCLUDED.low_price, volume = EXCLUDED.volume,
    value = EXCLUDED.value, change_24h = EXCLUDED.change_24h, change_rate_24h = EXCLUDED.change_rate_24h,
    bid_price = EXCLUDED.bid_price, ask_price = EXCLUDED.ask_price, spread = EXCLUDED.spread
WHERE (tickers.opening_price, tickers.closing_price, tickers.high_price, tickers.low_price, tickers.volume, tickers.value, tickers.change_24h, tickers.change_rate_24h, tickers.bid_price, tickers.ask_price, tickers.spread)
    IS DISTINCT FROM (EXCLUDED.opening_price, EXCLUDED.closing_price, EXCLUDED.high_price, EXCLUDED.low_price, EXCLUDED.volume, EXCLUDED.value, EXCLUDED.change_24h, EXCLUDED.change_rate_24h, EXCLUDED.bid_price, EXCLUDED.ask_price, EXCLUDED.spread)
RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM up
