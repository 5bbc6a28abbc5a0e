"""Circuit builders: functions that turn a problem and parameters into Brian2 objects."""
from .softmax_head import HeadParameters, SoftmaxHead, build_softmax_head

__all__ = ["HeadParameters", "SoftmaxHead", "build_softmax_head"]
