"""Shengxin (省心): enterprise service platform for district governments."""
__version__ = "0.1.0"
