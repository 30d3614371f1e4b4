"""The reference CNNs: shapes, PyTorch naming, and ResNet's basic block against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import xpnet
from xpnet.models import BasicBlock, LeNet5, PlainBlock, ResNet, VGGBlock

from .conftest import assert_close, assert_on_backend


def test_lenet5_shapes_for_28_and_32_pixel_inputs(backend):
    assert LeNet5()(xpnet.randn(2, 1, 28, 28)).shape == (2, 10)
    out = LeNet5(num_classes=3, in_channels=3, input_size=32)(xpnet.randn(2, 3, 32, 32))
    assert out.shape == (2, 3)
    assert_on_backend(out, backend)
    with pytest.raises(ValueError, match="input_size 8 is too small"):
        LeNet5(input_size=8)


def test_vgg_block_halves_the_resolution():
    block = VGGBlock(3, 8, num_convs=3, batch_norm=True)
    assert block(xpnet.randn(2, 3, 8, 8)).shape == (2, 8, 4, 4)
    assert sum(isinstance(m, xpnet.nn.Conv2d) for m in block) == 3


def test_basic_block_has_torchvision_names():
    keys = list(BasicBlock(4, 8, stride=2).state_dict())
    assert keys[:2] == ["conv1.weight", "bn1.weight"]
    assert "downsample.0.weight" in keys and "downsample.1.running_var" in keys
    assert BasicBlock(4, 4).downsample is None


@pytest.mark.parametrize("stride, planes", [(1, 4), (2, 6)])
def test_basic_block_matches_the_same_block_in_pytorch(stride, planes):
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    class TorchBasicBlock(tnn.Module):
        def __init__(self, in_planes, planes, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or in_planes != planes:
                self.downsample = tnn.Sequential(tnn.Conv2d(in_planes, planes, 1, stride,
                                                            bias=False), tnn.BatchNorm2d(planes))

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return torch.relu(out + (x if self.downsample is None else self.downsample(x)))

    ours = BasicBlock(4, planes, stride).double()
    theirs = TorchBasicBlock(4, planes, stride).double()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4, 6, 6))
    xs, tx = xpnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(xs), theirs(tx)
    assert_close(out, expected, rtol=1e-9, atol=1e-11)
    out.sum().backward()
    expected.sum().backward()
    assert_close(xs.grad, tx.grad, rtol=1e-9, atol=1e-11)
    assert_close(ours.conv1.weight.grad, theirs.conv1.weight.grad, rtol=1e-9, atol=1e-11)
    # training mode updated the running statistics the same way
    assert_close(ours.bn1.running_var, theirs.bn1.running_var.detach(), rtol=1e-9)


def test_resnet_and_its_plain_twin_have_the_same_depth():
    resnet = ResNet((2, 2), width=8)
    plain = ResNet((2, 2), width=8, block=PlainBlock)
    count = lambda m: sum(isinstance(c, xpnet.nn.Conv2d) for c in m.modules())  # noqa: E731
    assert count(resnet) == count(plain) + 1  # the one downsample shortcut
    x = xpnet.randn(2, 1, 8, 8)
    assert resnet(x).shape == plain(x).shape == (2, 10)
