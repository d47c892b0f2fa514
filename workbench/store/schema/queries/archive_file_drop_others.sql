-- Before committing version :sha256 of :path: drop the path's other versions (the file replaced them).
DELETE FROM archive_files WHERE path = :path AND sha256 <> :sha256
