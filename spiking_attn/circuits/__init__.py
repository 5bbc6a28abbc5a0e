"""Circuit builders: functions that turn a problem and parameters into Brian2 objects."""
from .random_features import FeatureNetwork, FeatureParameters, build_random_features
from .softmax_head import HeadParameters, SoftmaxHead, build_softmax_head

__all__ = ["FeatureNetwork", "FeatureParameters", "HeadParameters", "SoftmaxHead", "build_random_features",
           "build_softmax_head"]
