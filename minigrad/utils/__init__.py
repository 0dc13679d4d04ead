"""Utilities under PyTorch's ``torch.utils`` paths: minigrad.utils.data, the DataLoader family."""
