compute m=1
frobnicate
