"""train.py's experiment code, beside it rather than inside the library: the run's
configuration, its stopwatch, the progress bar, the tracked inputs, the logs and summary, the
plots and the host allocator tuning. Used from the checkout, like datasets/ and models/.
"""
