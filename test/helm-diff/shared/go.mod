module helmdiff/shared

go 1.26
