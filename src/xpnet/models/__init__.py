"""Small reference models of the CNN line: LeNet-5, a VGG block, ResNet's basic block."""

from .cnn import BasicBlock, LeNet5, PlainBlock, ResNet, VGGBlock

__all__ = ["BasicBlock", "LeNet5", "PlainBlock", "ResNet", "VGGBlock"]
