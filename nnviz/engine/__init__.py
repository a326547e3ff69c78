"""Background work for the app, without Qt: the training and loss-surface servers."""
