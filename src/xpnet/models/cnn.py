"""LeNet-5 (LeCun et al., 1998), the VGG block (Simonyan & Zisserman, 2015) and ResNet's basic
block (He et al., 2016), as small modules with torchvision's attribute names where it has them.
"""

from __future__ import annotations

from xpnet import nn

__all__ = ["LeNet5", "VGGBlock", "BasicBlock", "PlainBlock", "ResNet"]


class LeNet5(nn.Module):
    """conv 5x5 (6) -> pool -> conv 5x5 (16) -> pool -> 120 -> 84 -> classes.

    Parameters
    ----------
    num_classes : int, default=10
    in_channels : int, default=1
    input_size : int, default=28
        Height = width of the images. 28 (MNIST) pads the first convolution by 2, as is usual,
        so the feature maps are those of the original 32x32 design.
    activation : type, default=nn.Tanh
        The original used squashing units; ``nn.ReLU`` trains faster.
    pool : type, default=nn.AvgPool2d
        The original subsampled by averaging; ``nn.MaxPool2d`` is the modern choice.
    """

    def __init__(self, num_classes=10, in_channels=1, input_size=28, activation=nn.Tanh,
                 pool=nn.AvgPool2d):
        super().__init__()
        padding = 2 if input_size == 28 else 0
        size = (input_size + 2 * padding - 4) // 2  # after conv1 (5x5) and a 2x2 pool
        size = (size - 4) // 2  # after conv2 and the second pool
        if size < 1:
            raise ValueError(f"LeNet5: input_size {input_size} is too small for two 5x5 "
                             f"convolutions and two 2x2 poolings")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=padding), activation(), pool(2),
            nn.Conv2d(6, 16, 5), activation(), pool(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * size * size, 120), activation(),
            nn.Linear(120, 84), activation(), nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class VGGBlock(nn.Sequential):
    """``num_convs`` times (3x3 convolution, optional batch norm, ReLU), then 2x2 max pooling."""

    def __init__(self, in_channels, out_channels, num_convs=2, batch_norm=False):
        layers = []
        for i in range(num_convs):
            layers.append(nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3,
                                    padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.ReLU())
        layers.append(nn.MaxPool2d(2))
        super().__init__(*layers)


class BasicBlock(nn.Module):
    """ResNet's basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).

    The shortcut is the identity, or a strided 1x1 convolution with batch norm
    (``downsample``) when the block changes the resolution or the number of channels.
    """

    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))
        else:
            self.downsample = None

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class PlainBlock(nn.Module):
    """BasicBlock without the shortcut (and optionally without batch norm): the 'plain'
    network of He et al.'s comparison."""

    def __init__(self, in_planes, planes, stride=1, batch_norm=True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1,
                               bias=not batch_norm)
        self.bn1 = nn.BatchNorm2d(planes) if batch_norm else nn.Identity()
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=not batch_norm)
        self.bn2 = nn.BatchNorm2d(planes) if batch_norm else nn.Identity()

    def forward(self, x):
        return self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))


class ResNet(nn.Module):
    """A small ResNet for small images: a 3x3 stem, stages of blocks, global average pooling,
    a linear classifier.

    Parameters
    ----------
    blocks_per_stage : sequence of int, default=(2, 2, 2)
        Each stage after the first halves the resolution and doubles the channels.
    width : int, default=16
        Channels of the stem and the first stage.
    num_classes : int, default=10
    in_channels : int, default=1
    block : type, default=BasicBlock
        ``PlainBlock`` gives the same depth without shortcuts (for comparisons).
    """

    def __init__(self, blocks_per_stage=(2, 2, 2), width=16, num_classes=10, in_channels=1,
                 block=BasicBlock):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU())
        stages, planes, in_planes = [], width, width
        for i, n in enumerate(blocks_per_stage):
            layers = []
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                layers.append(block(in_planes, planes, stride))
                in_planes = planes
            stages.append(nn.Sequential(*layers))
            planes *= 2
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_planes, num_classes)

    def forward(self, x):
        x = self.pool(self.stages(self.stem(x)))
        return self.fc(x.flatten(1))
