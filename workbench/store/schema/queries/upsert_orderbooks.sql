-- Upsert from _wb_stage that touches only rows whose values differ; returns (inserted, updated).
WITH up AS (
INSERT INTO orderbooks (symbol, timestamp, bids, asks, bid_volume, ask_volume, spread, mid_price)
SELECT symbol, timestamp, bids, asks, bid_volume, ask_volume, spread, mid_price
FROM _wb_stage
ON CONFLICT (symbol, timestamp) DO UPDATE SET
    bids = EXCLUDED.bids, asks = EXCLUDED.asks, bid_volume = EXCLUDED.bid_volume,
    ask_volume = EXCLUDED.ask_volume, spread = EXCLUDED.spread, mid_price = EXCLUDED.mid_price
WHERE (orderbooks.bids, orderbooks.asks, orderbooks.bid_volume, orderbooks.ask_volume, orderbooks.spread, orderbooks.mid_price)
    IS DISTINCT FROM (EXCLUDED.bids, EXCLUDED.asks, EXCLUDED.bid_volume, EXCLUDED.ask_volume, EXCLUDED.spread, EXCLUDED.mid_price)
RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM up
