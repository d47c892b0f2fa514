INSERT INTO orderbooks (symbol, timestamp, bids, asks, bid_volume, ask_volume, spread, mid_price)
SELECT symbol, timestamp, bids, asks, bid_volume, ask_volume, spread, mid_price
FROM _wb_stage
ON CONFLICT (symbol, timestamp) DO UPDATE SET
    bids = EXCLUDED.bids, asks = EXCLUDED.asks, bid_volume = EXCLUDED.bid_volume,
    ask_volume = EXCLUDED.ask_volume, spread = EXCLUDED.spread, mid_price = EXCLUDED.mid_price
RETURNING (xmax = 0) AS inserted
